package keystore

// checkPlatform has nothing to check before a Keychain call.
func checkPlatform() error { return nil }

// classifyPlatform recognises failures of /usr/bin/security (see
// classifySecurityTool).
func classifyPlatform(err error) error { return classifySecurityTool(err) }
