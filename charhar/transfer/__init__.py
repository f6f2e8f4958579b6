"""Moving content in and out: structured JSON Lines/CSV, WordPress WXR and saved HTML imports,
and the JSON Lines export (see docs/imports.md).

Every import turns its input into records of the structured format and hands them to one
writer (`records.ContentWriter`), which looks rows up in batches, compares before writing,
sanitizes HTML with `charhar.sanitize.clean_html`, de-duplicates slugs, keeps old addresses as
redirects and reports what it created, updated, left unchanged or could not take.
"""
