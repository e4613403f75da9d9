# expect: model=adaptive-conv; field=kernel_size; message=value 30 is out of range: expected [1, 28]
"""A kernel larger than the 28 x 28 image."""
kernel_size = 30                 # convolution kernels are kernel_size x kernel_size
