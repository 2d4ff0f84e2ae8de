package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"mixdesk/mixin/sandbox"
)

// sandboxFaultsEnv names the variable that injects faults into the
// embedded sandbox, so that an operator can rehearse what a slow or failing
// server looks like (fake money only). Its value is a list of faults
// separated by ";", each "KIND METHOD PATH [DURATION] [xN]":
//
//	MIXDESK_SANDBOX_FAULTS="hold POST /transfers 20s; 429 POST /transfers"
//
// KIND is 500 (a server error before anything is done), 429, delay (the
// answer waits DURATION; a caller that gives up leaves nothing done), drop
// (the call is done, its answer lost) or hold (the call waits DURATION and
// is then done, even if the caller gave up). xN applies it to the next N
// calls (default 1). Faults apply in the order given, to whichever sandbox
// runs: on the Safe sandbox (--sandbox) a payout is POST
// /safe/transaction/requests (verify) then POST /safe/transactions
// (submit), e.g. "hold POST /safe/transactions 20s"; on the legacy one
// (--sandbox=legacy) it is POST /transfers.
const sandboxFaultsEnv = "MIXDESK_SANDBOX_FAULTS"

type sandboxFaultSpec struct {
	method, path string
	fault        sandbox.Fault
}

// parseSandboxFaults reads the variable's value; a bad item gets one line
// naming it.
func parseSandboxFaults(v string) ([]sandboxFaultSpec, error) {
	var out []sandboxFaultSpec
	for i, item := range strings.Split(v, ";") {
		f := strings.Fields(item)
		if len(f) == 0 {
			continue
		}
		bad := func(why string) error {
			return fmt.Errorf("%s: fault %d %q: %s (write KIND METHOD PATH [DURATION] [xN], e.g. \"hold POST /transfers 20s\")", sandboxFaultsEnv, i+1, strings.TrimSpace(item), why)
		}
		if len(f) < 3 {
			return nil, bad("needs a kind, a method and a path")
		}
		var spec sandboxFaultSpec
		switch f[0] {
		case "500":
			spec.fault.Kind = sandbox.FaultServerError
		case "429":
			spec.fault.Kind = sandbox.FaultTooManyRequests
		case "delay":
			spec.fault.Kind = sandbox.FaultDelay
		case "drop":
			spec.fault.Kind = sandbox.FaultCommitThenDrop
		case "hold":
			spec.fault.Kind = sandbox.FaultHold
		default:
			return nil, bad("unknown kind (500, 429, delay, drop or hold)")
		}
		spec.method = strings.ToUpper(f[1])
		if spec.method != "GET" && spec.method != "POST" {
			return nil, bad("the method is GET or POST")
		}
		spec.path = f[2]
		if !strings.HasPrefix(spec.path, "/") {
			return nil, bad("the path starts with /")
		}
		for _, extra := range f[3:] {
			if n, ok := strings.CutPrefix(extra, "x"); ok {
				times, err := strconv.Atoi(n)
				if err != nil || times < 1 || times > 1000 {
					return nil, bad("xN takes a count from 1 to 1000")
				}
				spec.fault.Times = times
				continue
			}
			d, err := time.ParseDuration(extra)
			if err != nil || d <= 0 || d > 10*time.Minute {
				return nil, bad("the duration is like 20s, at most 10m")
			}
			spec.fault.Delay = d
		}
		if (spec.fault.Kind == sandbox.FaultDelay || spec.fault.Kind == sandbox.FaultHold) && spec.fault.Delay == 0 {
			return nil, bad("delay and hold need a duration")
		}
		out = append(out, spec)
	}
	return out, nil
}
