package keystore

// checkPlatform has nothing to check before a Credential Manager call.
func checkPlatform() error { return nil }

// classifyPlatform recognises Credential Manager failures (see
// classifyCredManager).
func classifyPlatform(err error) error { return classifyCredManager(err) }
