"""What committee officers ask: status with drill-down, cells not met, alerts, reports as
text, chart and workbook."""
