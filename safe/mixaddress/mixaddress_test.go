package mixaddress

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"mixdesk/mixin"
)

// Vectors of the official Go SDK's tests: MixinNetwork/bot-api-go-client,
// mix_test.go (TestUUIDMixAddress, TestMainnetMixAddress) at commit
// 413947a117a1281b2f1873c7bcd44d37bee114c7, unchanged at 51615596d4.
const (
	sdkUser     = "67a87828-18f5-46a1-b6cc-c72a97a77c43"
	sdkUser1of1 = "MIX3QEeg1WkLrjvjxyMQf6Xc8dxs81tpPc"
	// 1 kernel member, threshold 64: the SDK decodes it, a payer must not.
	sdkThreshold64 = "MIXSK624cFT3CXbbjYxU17CeYWCwj6CZgkp2VsfiRsDMXw4MzpfYKPKKYwLmfDby2z85MLAbSWZbAB1dfPetCxUf7vwwJnToaG8"
	// 4 of 7 members, three of them repeated.
	sdkRepeated  = "MIX4fwusRK88p5GexHWddUQuYJbKMJTAuBvhudgahRXKndvaM8FdPHS2Hgeo7DQxNVoSkKSEDyZeD8TYBhiwiea9PvCzay1A9Vx1C2nugc4iAmhwLGGv4h3GnABeCXHTwWEto9wEe1MWB49jLzy3nuoM81tqE2XnLvUWv"
	sdkKernel    = "XIN3BMNy9pQyj5XWDJtTbaBVE2zQ66zBo2weyc43iL286asdqwApWswAzQC5qba26fh3fzHK9iMoxyx1q3Lgj45KJftzGD9q"
	sdkKernel1of = "MIXPYWwhjxKsbFRzAP2Dcb2mMjj7sQQo4MpCSv3NYaYCdQ2kEcbcimpPT81gaxtuNhunLWPx7Sv7fawjZ8DhRmEj8E2hrQM4Z6e"
	sdkKernel2of = "MIXBCirWksVv9nuphqbtNRZZvwKsXHHMUnB5hVrVY1P7f4eBdLpDoLwiQoHYPvXia2wFepnX6hJwTjHybzBiroWVEMaFHeRFfLpcU244tzRM8smak9iRAD4PJRHN1MLHRWFtErottp9t7piaRVZBzsQXpSsaSgagj93voQdUuXhuQGZNj3Fme5YYMHfJBWjoRFHis4mnhBgxkyEGRUHAVYnfej2FhrypJmMDu74irRTdj2xjQYr6ovBJSUBYDBcvAyLPE3cEKc4JsPz7b9"
)

var (
	sdkRepeatedMembers = []string{
		"67a87828-18f5-46a1-b6cc-c72a97a77c43",
		"c94ac88f-4671-3976-b60a-09064f1811e8",
		"c6d0c728-2624-429b-8e0d-d9d19b6592fa",
		"67a87828-18f5-46a1-b6cc-c72a97a77c43",
		"c94ac88f-4671-3976-b60a-09064f1811e8",
		"c6d0c728-2624-429b-8e0d-d9d19b6592fa",
		"67a87828-18f5-46a1-b6cc-c72a97a77c43",
	}
	sdkKernelMembers = []string{
		"XINGNzunRUMmKGqDhnf1MT8tR7ek6ozg2V6dXFHCCg3tndnSRcAdzET8Fw4ktcQKshzteDmyV2RE8aFiKPz8ewrvsj3s7fvC",
		"XINMd9kCbxEoEetZuDM8gGJS11X3TVrRLwzhnqgMr65qjJBkCncNqSAngESpC7Hddnsw1D9Jo2QJakbFPr8WyrM6VkskGkB8",
		"XINLM7VuMYSjvKiEQPyLpaG7NDLDPngWWFBZpVJjhGamMsgPbmeSsGs3fQzNoqSr6syBTyLM3i69T7iSN8Tru7aQadiKLkSV",
	}
)

// Vectors of the project's Safe research, made with the kernel library and
// checked against the SDK v3.16.0: ../shared/safe-vectors/output.txt
// ("MIX 1-of-1 recipient", "MIX 2-of-3").
const (
	vecSender    = "00000000-0000-4000-8000-000000000001"
	vecRecipient = "00000000-0000-4000-8000-000000000002"
	vecThird     = "00000000-0000-4000-8000-000000000003"
	vec1of1      = "MIX3QEdEFTPwUosfeXvS6o5KYtEo734ZpT"
	vec2of3      = "MIXiSg7pS5dmBmhh3qFPT2qEoWDf8CKx2itAUgwkxuZFDkjVs4CTmZPCAP178d9fkbNfLw2AJFb3N"
)

func mustNew(t *testing.T, threshold int, members ...string) Address {
	t.Helper()
	a, err := New(threshold, members...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustParse(t *testing.T, s string) Address {
	t.Helper()
	a, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestVectors(t *testing.T) {
	for _, c := range []struct {
		name      string
		threshold int
		members   []string
		want      string
		kind      Kind
	}{
		{"sdk user 1 of 1", 1, []string{sdkUser}, sdkUser1of1, UserMembers},
		{"sdk kernel 1 of 1", 1, []string{sdkKernel}, sdkKernel1of, KernelMembers},
		{"sdk kernel 2 of 3", 2, sdkKernelMembers, sdkKernel2of, KernelMembers},
		{"project 1 of 1", 1, []string{vecRecipient}, vec1of1, UserMembers},
		{"project 2 of 3", 2, []string{vecSender, vecRecipient, vecThird}, vec2of3, UserMembers},
	} {
		a := mustNew(t, c.threshold, c.members...)
		if got := a.String(); got != c.want {
			t.Errorf("%s: New gives %s, want %s", c.name, got, c.want)
		}
		b := mustParse(t, c.want)
		if b.Threshold() != c.threshold || b.Kind() != c.kind || !slices.Equal(b.Members(), c.members) {
			t.Errorf("%s: Parse gives %d of %v (kind %d)", c.name, b.Threshold(), b.Members(), b.Kind())
		}
		if b.String() != c.want || !b.Equal(a) {
			t.Errorf("%s: parsed address is not the built one", c.name)
		}
	}
}

// TestSDKVectorsRefused: two of the SDK's strings encode groups a payer
// must refuse. Their bytes are still checked against this encoder.
func TestSDKVectorsRefused(t *testing.T) {
	users := make([]uuid.UUID, len(sdkRepeatedMembers))
	for i, m := range sdkRepeatedMembers {
		users[i] = uuid.MustParse(m)
	}
	if got := (Address{threshold: 4, users: users}).String(); got != sdkRepeated {
		t.Fatalf("encoding of the repeated members: %s", got)
	}
	wantErr(t, "New repeated", errOf(New(4, sdkRepeatedMembers...)), "MIX address: member 4 repeats member 1")
	wantErr(t, "Parse repeated", errOf(Parse(sdkRepeated)), "MIX address: member 4 repeats member 1")

	p, err := open(FieldAddress, Prefix, sdkThreshold64, maxDigits, headerSize+userSize)
	if err != nil || len(p) != headerSize+kernelSize || p[0] != Version || p[1] != 64 || p[2] != 1 {
		t.Fatalf("threshold 64 vector: % x, %v", p, err)
	}
	k := Kernel{Spend: [32]byte(p[3:35]), View: [32]byte(p[35:])}
	if got := (Address{threshold: 64, kernels: []Kernel{k}}).String(); got != sdkThreshold64 {
		t.Fatalf("encoding of threshold 64: %s", got)
	}
	wantErr(t, "Parse threshold 64", errOf(Parse(sdkThreshold64)),
		"MIX address: threshold 64 of 1 member: no set of members could ever spend what is paid to it")
	// Messenger's storage-fee receiver, of the same form: MixinNetwork/ios-app
	// Mixin/UserInterface/Controllers/Wallet/Payment/MIXAddress.swift
	// (storageFeeReceiver) at 2c62c53f6d.
	wantErr(t, "storage-fee receiver", errOf(Parse("MIXSK6TsZiYZ8uUxjggvf5CmfYmny8qf831CrXaGEZ2KwkwWguJn1Y21Nh1Rw1sN5GFnFW1R2Qc3p6KtAbqpEGXq4MMSTZET3YP")),
		"MIX address: threshold 64 of 1 member: no set of members could ever spend what is paid to it")
}

func TestMembersKeepOrderEqualIgnoresIt(t *testing.T) {
	sorted := slices.Sorted(slices.Values(sdkKernelMembers))
	a, b := mustParse(t, sdkKernel2of), mustNew(t, 2, sorted...)
	if a.String() == b.String() {
		t.Fatal("the order of members should change the string")
	}
	if !slices.Equal(b.Members(), sorted) || !a.Equal(b) || !b.Equal(a) {
		t.Fatalf("Equal: %v vs %v", a.Members(), b.Members())
	}
	if a.Equal(mustNew(t, 1, sorted...)) || a.Equal(mustNew(t, 2, sorted[:2]...)) || a.Equal(Address{}) {
		t.Fatal("Equal ignores the threshold or the members")
	}
	if (Address{}).String() != "" || (Address{}).Kind() != 0 || len((Address{}).Members()) != 0 {
		t.Fatal("zero Address")
	}
}

func TestNewCanonicalises(t *testing.T) {
	a := mustNew(t, 1, "  "+strings.ToUpper(sdkUser)+"\n")
	if a.String() != sdkUser1of1 || a.Members()[0] != sdkUser {
		t.Fatalf("%s %v", a, a.Members())
	}
	if got := mustParse(t, " "+sdkUser1of1+"\t").String(); got != sdkUser1of1 {
		t.Fatal(got)
	}
}

func TestLargestAddresses(t *testing.T) {
	if n := math.Ceil(float64(headerSize+MaxMembers*kernelSize+checksumSize) * math.Log(256) / math.Log(58)); int(n) != maxDigits {
		t.Fatalf("maxDigits is %d, the formula gives %v", maxDigits, n)
	}
	if n := math.Ceil(float64(kernelSize+checksumSize) * math.Log(256) / math.Log(58)); int(n) != kernelDigits {
		t.Fatalf("kernelDigits is %d, the formula gives %v", kernelDigits, n)
	}
	users, kernels := make([]string, MaxMembers), make([]string, MaxMembers)
	for i := range MaxMembers {
		users[i] = uuid.NewString()
		kernels[i] = testKernel(byte(i)).String()
	}
	for _, members := range [][]string{users, kernels} {
		a := mustNew(t, MaxMembers, members...)
		s := a.String()
		if len(s) > len(Prefix)+maxDigits {
			t.Fatalf("%d characters", len(s))
		}
		if b := mustParse(t, s); !slices.Equal(b.Members(), members) || b.Threshold() != MaxMembers {
			t.Fatal("round trip of 64 members")
		}
	}
	wantErr(t, "65 members", errOf(New(1, append(users, uuid.NewString())...)), "MIX address: 65 members; at most 64")
}

func TestNewRefuses(t *testing.T) {
	for _, c := range []struct {
		threshold int
		members   []string
		want      string
	}{
		{1, nil, "MIX address: no members"},
		{0, []string{sdkUser}, "MIX address: threshold 0; must be 1 to 1 (the number of members)"},
		{-1, []string{sdkUser}, "MIX address: threshold -1; must be 1 to 1 (the number of members)"},
		{3, []string{vecSender, vecRecipient}, "MIX address: threshold 3 of 2 members: no set of members could ever spend what is paid to it"},
		{1, []string{"not-a-uuid"}, "MIX address: member 1: not a UUID (want 36 characters like 8dcf823d-9eb3-4da2-8734-f0aad50c0da6, got 10)"},
		{1, []string{vecSender, "8dcf823d-9eb3-4da2-8734-f0aad50c0dzz"}, "MIX address: member 2: not a UUID"},
		{1, []string{"00000000-0000-0000-0000-000000000000"}, "MIX address: member 1 is the nil UUID, which is nobody"},
		{1, []string{vecSender, strings.ToUpper(vecSender)}, "MIX address: member 2 repeats member 1"},
		{1, []string{vecSender, sdkKernel}, "MIX address: member 2 is a XIN kernel address but member 1 is a user id; all members must be of one kind"},
		{1, []string{sdkKernel, vecSender}, "MIX address: member 2 is a user id but member 1 is a XIN kernel address; all members must be of one kind"},
		{1, []string{sdkKernel, sdkKernel}, "MIX address: member 2 repeats member 1"},
		{1, []string{sdkKernel[:len(sdkKernel)-1]}, "MIX address: member 1: XIN address: too short (67 bytes; at least 68)"},
		{1, []string{sdkUser1of1}, "MIX address: member 1: not a UUID (want 36 characters like 8dcf823d-9eb3-4da2-8734-f0aad50c0da6, got 34)"},
	} {
		wantErr(t, strings.Join(c.members, ","), errOf(New(c.threshold, c.members...)), c.want)
	}
}

// sealed is the text of an address made of raw parts, checksum included.
func sealed(version, threshold, count byte, members ...[]byte) string {
	p := []byte{version, threshold, count}
	for _, m := range members {
		p = append(p, m...)
	}
	return seal(Prefix, p)
}

func TestParseRefuses(t *testing.T) {
	u1, u2 := uuid.MustParse(vecSender), uuid.MustParse(vecRecipient)
	many := make([][]byte, 65)
	for i := range many {
		id := uuid.New()
		many[i] = id[:]
	}
	k := testKernel(1)
	kb := append(k.Spend[:], k.View[:]...)
	flipped := []byte(vec1of1)
	flipped[len(flipped)-1] = 'a'
	for _, c := range []struct{ in, want string }{
		{"", "MIX address: empty"},
		{"   ", "MIX address: empty"},
		{"MIX", "MIX address: nothing after MIX"},
		{"mix3QEdEFTPwUosfeXvS6o5KYtEo734ZpT", "MIX address: must start with MIX"},
		{sdkKernel, "MIX address: must start with MIX"},
		{"MIX3QEdEFTPwUosfeXvS6o5KYtEo734Zp0", "MIX address: character '0' at position 34 is not base58"},
		{"MIX3QEdEFTPwUosfeXvS6o5KYtEo734ZpI", "MIX address: character 'I' at position 34 is not base58"},
		{"MIX3QEdEFTPwUosfeXvS6o5KYtEo734Zpé", "MIX address: character '\\u00e9' at position 34 is not base58"},
		{"MIX3QEdEFTPwUos feXvS6o5KYtEo734Zp", "MIX address: character ' ' at position 16 is not base58"},
		{"MIX\xff", "MIX address: character '\\ufffd' at position 4 is not base58"},
		{"MIX" + strings.Repeat("2", maxDigits+1), "MIX address: too long (5608 characters; at most 5607)"},
		{"MIX3QEdEFTPwUosfeXv", "MIX address: too short (12 bytes; at least 23)"},
		{string(flipped), "MIX address: checksum does not match (mistyped or cut short?)"},
		{vec1of1[:len(vec1of1)-1], "MIX address: too short (22 bytes; at least 23)"},
		{sealed(3, 1, 1, u1[:]), "MIX address: version 3; only version 2 exists"},
		{sealed(0, 1, 1, u1[:]), "MIX address: version 0; only version 2 exists"},
		{sealed(2, 0, 1, u1[:]), "MIX address: threshold 0; must be 1 to 1 (the number of members)"},
		{sealed(2, 2, 1, u1[:]), "MIX address: threshold 2 of 1 member: no set of members could ever spend what is paid to it"},
		{sealed(2, 1, 0, u1[:]), "MIX address: no members"},
		{sealed(2, 1, 65, many...), "MIX address: 65 members; at most 64"},
		{sealed(2, 1, 2, u1[:]), "MIX address: 16 bytes of members hold neither 2 user ids (16 bytes each) nor 2 kernel addresses (64 bytes each)"},
		{sealed(2, 1, 1, u1[:], u2[:]), "MIX address: 32 bytes of members hold neither 1 user id (16 bytes each) nor 1 kernel address (64 bytes each)"},
		{sealed(2, 1, 1, make([]byte, 16)), "MIX address: member 1 is the nil UUID, which is nobody"},
		{sealed(2, 1, 2, u1[:], u1[:]), "MIX address: member 2 repeats member 1"},
		{sealed(2, 1, 2, kb, kb), "MIX address: member 2 repeats member 1"},
		{sealed(2, 1, 1, offCurve(), k.View[:]), "MIX address: member 1: the public spend key is not a point of the curve"},
		{sealed(2, 1, 1, k.Spend[:], offCurve()), "MIX address: member 1: the public view key is not a point of the curve"},
	} {
		wantErr(t, c.in, errOf(Parse(c.in)), c.want)
	}
}

func errOf[T any](_ T, err error) error { return err }

// wantErr checks err is one *mixin.FieldError line saying want.
func wantErr(t *testing.T, name string, err error, want string) {
	t.Helper()
	var fe *mixin.FieldError
	switch {
	case err == nil:
		t.Errorf("%.60q: accepted, want %q", name, want)
	case !errors.As(err, &fe):
		t.Errorf("%.60q: error of type %T: %v", name, err, err)
	case err.Error() != want:
		t.Errorf("%.60q:\n got %q\nwant %q", name, err.Error(), want)
	}
}
