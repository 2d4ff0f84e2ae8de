package payout

import "mixdesk/journal"

// The journal moved to package journal. These names are the ones the
// console (package ui) still spells payout.X; payout itself and everything
// else use package journal directly.

// Journal is journal.Journal: kept for the console until it imports journal directly.
type Journal = journal.Journal

// Report is journal.Report: kept for the console until it imports journal directly.
type Report = journal.Report

// Intent is journal.Intent: kept for the console until it imports journal directly.
type Intent = journal.Intent

// Failed is journal.Failed: kept for the console until it imports journal directly.
type Failed = journal.Failed

// State is journal.State: kept for the console until it imports journal directly.
type State = journal.State

// The states of a journal entry: kept for the console until it imports journal directly.
const (
	StateInDoubt = journal.StateInDoubt
	StateDone    = journal.StateDone
	StateFailed  = journal.StateFailed
)

// Open is journal.Open: kept for the console until it imports journal directly.
var Open = journal.Open

// WithOperator is journal.WithOperator: kept for the console until it imports journal directly.
var WithOperator = journal.WithOperator

// WithHost is journal.WithHost: kept for the console until it imports journal directly.
var WithHost = journal.WithHost

// VerifyFile is journal.VerifyFile: kept for the console until it imports journal directly.
var VerifyFile = journal.VerifyFile

// JournalPath is journal.Path: kept for the console until it imports journal directly.
var JournalPath = journal.Path

// SaveJournalCSV is journal.SaveCSV: kept for the console until it imports journal directly.
var SaveJournalCSV = journal.SaveCSV
