"""Pure, synchronous domain: values, policies and rules, no I/O."""
