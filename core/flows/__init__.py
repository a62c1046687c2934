"""One module per user goal; each flow is a small class over the ports in `Kit`."""
