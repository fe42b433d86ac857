"""Static offline HTML reports: chart builders (charts), page builder (pages)."""
