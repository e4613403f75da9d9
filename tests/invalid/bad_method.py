# expect: field=integration_method; message=unknown integration method 'runge_kutta'
"""An integration method Brian2 does not have."""
integration_method = 'runge_kutta'
