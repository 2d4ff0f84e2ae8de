package history

import "mixdesk/payout/payouttest"

// Asset ids of the sandbox's default world.
const (
	btcID  = payouttest.BTC
	ethID  = payouttest.ETH
	usdtID = payouttest.USDT
)

// wrongPIN returns a six-digit PIN that is not pin.
func wrongPIN(pin string) string {
	b := []byte(pin)
	b[5] = '0' + (b[5]-'0'+1)%10
	return string(b)
}
