package ui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// How the root does what the screens ask of it (component.go lists the
// requests).

// takeAsks does what the screens asked of the root, in order.
func (a *App) takeAsks() tea.Cmd {
	var cmds []tea.Cmd
	for asks := a.shared.takeAsks(); len(asks) > 0; asks = a.shared.takeAsks() {
		for _, m := range asks {
			cmds = append(cmds, a.onAsk(m))
		}
	}
	return tea.Batch(cmds...)
}

func (a *App) onAsk(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case showMsg:
		a.setScreen(msg.to)
	case unlockedMsg:
		a.lock = nil
		a.lastInput = a.now()
	case openMsg:
		return a.open(msg.to)
	case settleMsg:
		if msg.then != nil {
			then := msg.then
			return tea.Sequence(a.recoverCmd(), func() tea.Msg { return then })
		}
		return a.recoverCmd()
	case quitMsg:
		a.quitting = true
		return tea.Quit
	case refreshMsg:
		return a.deliver(screenHome, msg)
	case editDraftMsg:
		cmd := a.deliver(screenTransfer, msg)
		a.setScreen(screenTransfer)
		return cmd
	case saveRecipientMsg:
		a.openBook()
		return a.deliver(screenBook, msg)
	case sentEndedMsg:
		return a.onSentEnded(msg)
	case openedMsg:
		return a.onOpened(msg)
	case confirmMsg:
		c := newConfirmScreen(&a.shared, msg.review, a.acct.AsksPIN())
		a.pages[screenConfirm] = c
		a.setScreen(screenConfirm)
		return c.init()
	case sendPayoutMsg:
		pin := msg.pin
		if !msg.asked {
			pin = a.acct.PIN()
		}
		return a.startSend(msg.review, pin)
	case batchEndedMsg:
		a.quitArmed = false
		// A kept PIN the server refused is never sent again.
		return tea.Batch(a.deliver(screenHome, journalMovedMsg{moneyMoved: true}), a.keptPINRefused(msg.pin, msg.err))
	}
	return nil
}

// onSentEnded follows the answer to a payout's post or settlement.
func (a *App) onSentEnded(msg sentEndedMsg) tea.Cmd {
	a.quitArmed = false
	if strings.HasPrefix(a.status, "A transfer is being sent") {
		a.setStatus("", true)
	}
	forget := a.keptPINRefused(msg.pin, msg.errs...)
	return tea.Batch(forget, a.deliver(screenHome, journalMovedMsg{moneyMoved: msg.moved}))
}

// open opens a screen for the operator.
func (a *App) open(to screen) tea.Cmd {
	switch to {
	case screenTransfer:
		t := newTransferScreen(&a.shared, a.balances)
		a.pages[screenTransfer] = t
		a.setScreen(screenTransfer)
		return t.init()
	case screenHistory:
		return a.openHistory()
	case screenRequest:
		return a.openRequests()
	case screenBook:
		return a.openBook()
	case screenBatch:
		return a.openBatch()
	case screenSetup:
		a.goSetup("", "", true)
	}
	return nil
}
