# expect: model=sym-stdp; field=scaling_beta; message=out of range
"""A scaling factor outside (0, 1]: eq. 7 needs beta in (0, 1)."""
scaling_beta = 1.5               # weights into a neuron sum to beta x 784 x w_max
