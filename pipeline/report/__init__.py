"""Static offline HTML reports: data (queries per page) -> charts (Altair specs) -> pages
(Jinja templates, one bundle of Vega per reports folder)."""
