"""What a meeting leaves in writing: minutes (biên bản), resolution (nghị quyết), the
minutes book, Sổ tay uploads, the resolution's tasks, and their .docx/text renderings."""
