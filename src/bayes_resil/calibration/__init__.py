"""Calibration studies: do the intervals mean what they say? (``python -m bayes_resil.calibrate``)

* :mod:`.replication` - one simulated panel: estimate, score against the truth, write;
* :mod:`.truth` - the simulated truth behind each estimate row;
* :mod:`.metrics` - coverage, bias, RMSE, width, SE ratio with Monte-Carlo SEs;
* :mod:`.runner` - plan, reuse finished work, run in parallel with progress, write outputs;
* :mod:`.sbc` - simulation-based calibration of the Bayesian models;
* :mod:`.summary` - the closing text.
"""
