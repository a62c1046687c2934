"""The domain of the account assistant: accounts, bindings, codes, passwords and their flows."""
