"""Reports: tables, plots and sample grids of one run or several, as HTML, Markdown, CSV, JSON."""
