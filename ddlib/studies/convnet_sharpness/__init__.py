"""Study of notebook 02 (convnet_sharpness): params, experiment, claims, figures."""
