"""Product search: policies and engines that find goods for a query."""
