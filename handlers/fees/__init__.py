"""Đảng phí: recording who paid for a month, members' own view, and the yearly fee book."""
