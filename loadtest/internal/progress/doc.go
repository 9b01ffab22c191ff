// Package progress draws one live status line on a terminal, rewritten in
// place a few times a second, and stays silent when its output is not a
// terminal (a CI log or a pipe wants the final table, not carriage returns).
package progress
