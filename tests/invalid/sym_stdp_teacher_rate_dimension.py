# expect: model=sym-stdp; field=teacher_rate; message=has units of
"""A teacher rate given in millivolts."""
teacher_rate = 200*mV            # Poisson rate of the labelled SL neuron while it learns
