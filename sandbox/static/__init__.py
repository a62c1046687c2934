"""Static files of the sandbox pages (a package so that they are installed with it)."""
