package addressbook

import "fmt"

// rcp returns recipient n: a distinct canonical UUID.
func rcp(n int) string { return fmt.Sprintf("7b3f0a3e-1c2d-4e5f-8a9b-%012x", n) }
