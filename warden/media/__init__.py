"""Media attachments (issue 33): image processing (`processing`), where the files live (`storage`) and
the attachments' lifecycle (`service`: upload, describe, attach to a post, serve to those who may see)."""
