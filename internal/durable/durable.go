// Package durable holds the file-system steps that make mixdesk's files
// survive a crash, shared by the journal and the files of a profile
// (address book, payment requests).
package durable
