package oauth1_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log"
	"net/http"
	"regexp"
	"time"

	"github.com/wikiauth/mwoauth/oauth1"
)

// consumerPEM is the private key of the published RSA-SHA1 test vector
// (wiki.oauth.net/TestCases §9.3); a real consumer loads its own key.
const consumerPEM = `-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBALRiMLAh9iimur8V
A7qVvdqxevEuUkW4K+2KdMXmnQbG9Aa7k7eBjK1S+0LYmVjPKlJGNXHDGuy5Fw/d
7rjVJ0BLB+ubPK8iA/Tw3hLQgXMRRGRXXCn8ikfuQfjUS1uZSatdLB81mydBETlJ
hI6GH4twrbDJCR2Bwy/XWXgqgGRzAgMBAAECgYBYWVtleUzavkbrPjy0T5FMou8H
X9u2AC2ry8vD/l7cqedtwMPp9k7TubgNFo+NGvKsl2ynyprOZR1xjQ7WgrgVB+mm
uScOM/5HVceFuGRDhYTCObE+y1kxRloNYXnx3ei1zbeYLPCHdhxRYW7T0qcynNmw
rn05/KO2RLjgQNalsQJBANeA3Q4Nugqy4QBUCEC09SqylT2K9FrrItqL2QKc9v0Z
zO2uwllCbg0dwpVuYPYXYvikNHHg+aCWF+VXsb9rpPsCQQDWR9TT4ORdzoj+Nccn
qkMsDmzt0EfNaAOwHOmVJ2RVBspPcxt5iN4HI7HNeG6U5YsFBb+/GZbgfBT3kpNG
WPTpAkBI+gFhjfJvRw38n3g/+UeAkwMI2TJQS4n8+hid0uus3/zOjDySH3XHCUno
cn1xOJAyZODBo47E+67R4jV1/gzbAkEAklJaspRPXP877NssM5nAZMU0/O/NGCZ+
3jPgDUno6WbJn5cqm8MqWhW1xGkImgRk+fkDBquiq4gPiT898jusgQJAd5Zrr6Q8
AO/0isr/3aa6O6NLQxISLKcPDk2NOccAfS/xOtfOz4sJYM3+Bs4Io9+dZGSDCA54
Lw03eHTNQghS0A==
-----END PRIVATE KEY-----
`

// A consumer registered with a public RSA key signs with RSASHA1; it keeps
// ConsumerSecret only for Identify. Here the clock and nonce are fixed to
// reproduce the published vector.
func ExampleRSASHA1() {
	block, _ := pem.Decode([]byte(consumerPEM))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	cfg := &oauth1.Config{
		ConsumerKey: "dpf43f3p2l4k3l03",
		Signer:      oauth1.RSASHA1{Key: k.(*rsa.PrivateKey)},
		UserAgent:   "Example/1.0 (https://example.org; me@example.org)",
		Now:         func() time.Time { return time.Unix(1196666512, 0) },
		Nonce:       func() (string, error) { return "13917289812797014437", nil },
	}
	req, _ := http.NewRequest("GET", "http://photos.example.net/photos?file=vacaction.jpg&size=original", nil)
	if err := cfg.Sign(req, nil); err != nil {
		log.Fatal(err)
	}
	sig := regexp.MustCompile(`oauth_signature="([^"]+)"`).FindStringSubmatch(req.Header.Get("Authorization"))[1]
	fmt.Println(sig)
	fmt.Println(cfg.Signer)
	// Output:
	// jvTp%2FwX1TYtByB1m%2BPbyo0lnCOLIsyGCH7wke8AUs3BpnwZJtAuEJkvQL2%2F9n4s5wUmUl4aCI4BwpraNx4RtEXMe5qg5T1LVTGliMRpKasKsW%2F%2Fe%2BRinhejgCuzoH26dyF8iY2ZZ%2F5D1ilgeijhV%2FvBka5twt399mXwaYdCwFYE%3D
	// oauth1.RSASHA1{Key:REDACTED (1024-bit)}
}
