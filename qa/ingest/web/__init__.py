"""Web sites as a source: pages fetched politely (robots.txt, a delay, a few connections), found by
following links or from a sitemap, read by the same readers as files, re-fetched conditionally."""
