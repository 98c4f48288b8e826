"""What reads a built corpus for people and tools: the Corpus reader, export formats, the HTML report,
statistics, status and the build summary."""
