# expect: model=adaptive-conv; field=pool_size; message=value 40 is out of range: expected [1, 28]
"""A pooling window larger than the image."""
pool_size = 40                   # max pooling window (pool_size x pool_size)
