# expect: field=None; message=only 'name = value' assignments are allowed
"""Imports are not allowed in a model file."""
import os
tau_e = 100*ms                   # membrane time constant
