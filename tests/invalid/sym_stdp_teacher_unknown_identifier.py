# expect: model=sym-stdp; field=supervised_threshold_teacher; message=unknown identifier 'teacher_hz' (did you mean 'teacher_rate'?)
"""A teacher threshold condition that uses a misspelled rate."""
teacher_rate = 200*Hz            # Poisson rate of the labelled SL neuron
supervised_threshold_teacher = 'rand() < is_label * teacher_hz * dt'
