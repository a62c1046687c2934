"""The chat page's HTML, script and style (a package so the files ship in a wheel)."""
