# expect: field=input_delay_max; message=out of range
"""A negative delay."""
input_delay_max = -1*ms          # input -> excitatory delays ~ U(0, input_delay_max)
