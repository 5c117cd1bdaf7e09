package stats

import (
	"os/exec"
	"strings"
	"testing"
)

func TestCryptVectors(t *testing.T) {
	// Vectors from the SHA-crypt specification.
	for _, tc := range []struct{ pw, setting, want string }{
		{"Hello world!", "$5$saltstring", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
		{"Hello world!", "$5$rounds=10000$saltstringsaltstring", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"},
		{"Hello world!", "$6$saltstring", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{"Hello world!", "$6$rounds=10000$saltstringsaltstring", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
		{"This is just a test", "$6$rounds=5000$toolongsaltstring", "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
		{"we have a short salt string but not a short password", "$6$rounds=77777$short", "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0"},
		{"the minimum number is still observed", "$6$rounds=10$roundstoolow", "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."},
	} {
		got, err := Crypt(tc.pw, tc.setting)
		if err != nil || got != tc.want {
			t.Errorf("Crypt(%q, %q) = %q, %v; want %q", tc.pw, tc.setting, got, err, tc.want)
		}
		ok, err := CryptVerify(tc.want, tc.pw)
		if !ok || err != nil {
			t.Errorf("CryptVerify(%q) = %v, %v", tc.want, ok, err)
		}
		if ok, _ := CryptVerify(tc.want, tc.pw+"x"); ok {
			t.Errorf("CryptVerify accepted a wrong password for %q", tc.want)
		}
	}
}

func TestCryptMatchesOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	for _, alg := range []string{"-5", "-6"} {
		out, err := exec.Command(openssl, "passwd", alg, "-salt", "Zq8xT1", "S3cret pass").Output()
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSpace(string(out))
		if ok, err := CryptVerify(want, "S3cret pass"); !ok || err != nil {
			t.Errorf("openssl %s hash %q not verified: %v", alg, want, err)
		}
	}
}

func FuzzCrypt(f *testing.F) {
	f.Add("pw", "$6$salt")
	f.Add("", "$5$rounds=1000$x$")
	f.Fuzz(func(t *testing.T, pw, setting string) {
		if strings.Contains(setting, "rounds=") {
			return // keep each run fast: high round counts are slow by design
		}
		h, err := Crypt(pw, setting)
		if err != nil {
			return
		}
		if ok, err := CryptVerify(h, pw); !ok || err != nil {
			t.Fatalf("round trip %q %q -> %q: %v", pw, setting, h, err)
		}
	})
}
