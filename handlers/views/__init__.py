"""Read models the web view and the chat share (issue 22): who may see what, the
overview with its tiles and "Còn thiếu", the drill-down pages, and the /web command
that hands out the link. One computation and one wording per figure: the figures come
from models.reports and the committee's workbook code, never from new SQL."""
