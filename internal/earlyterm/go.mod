module earlyterm

go 1.24

require (
	github.com/charmbracelet/lipgloss v1.1.0
	github.com/muesli/termenv v0.16.0
)
