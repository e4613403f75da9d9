# expect: field=tau_e; message=only numbers, Brian2 units
"""Tries to run code at load time; it must be rejected, not executed."""
tau_e = __import__('pathlib').Path('bioplastic-was-executed').touch() or 100*ms
