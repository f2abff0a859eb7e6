// aim-registry-token is a minimal token server for the Distribution registry's token auth, for
// aim-engine's registry integration tests only. It checks HTTP basic credentials against an
// htpasswd (bcrypt) file and issues short-lived JWTs, signed with a key it generates at start,
// whose certificate it writes where the registry's `rootcertbundle` points. Every scope the
// client asks for is granted to an authenticated user; anonymous users get tokens without access.
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/crypto/bcrypt"
)

type access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

type claims struct {
	jwt.Claims
	Access []access `json:"access"`
}

func main() {
	listen := flag.String("listen", "127.0.0.1:5103", "address to serve /token on")
	certOut := flag.String("cert-out", "", "write the signing certificate (PEM) here")
	htpasswdPath := flag.String("htpasswd", "", "htpasswd file with bcrypt entries")
	issuer := flag.String("issuer", "aim-test-token-issuer", "token issuer")
	writeHtpasswd := flag.String("write-htpasswd", "", "write an htpasswd file for -user/-password and exit")
	user := flag.String("user", "", "user for -write-htpasswd")
	password := flag.String("password", "", "password for -write-htpasswd")
	flag.Parse()

	if *writeHtpasswd != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(*password), bcrypt.MinCost)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(*writeHtpasswd, []byte(*user+":"+string(hash)+"\n"), 0o600); err != nil {
			log.Fatal(err)
		}
		return
	}

	users, err := readHtpasswd(*htpasswdPath)
	if err != nil {
		log.Fatal(err)
	}
	key, cert, err := newSigningKey()
	if err != nil {
		log.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := os.WriteFile(*certOut, pemBytes, 0o644); err != nil {
		log.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("x5c", []string{base64.StdEncoding.EncodeToString(cert.Raw)}))
	if err != nil {
		log.Fatal(err)
	}

	http.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		subject := ""
		if u, p, ok := r.BasicAuth(); ok {
			hash, known := users[u]
			if !known || bcrypt.CompareHashAndPassword([]byte(hash), []byte(p)) != nil {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"invalid credentials"}]}`))
				return
			}
			subject = u
		}
		var granted []access
		if subject != "" {
			for _, scope := range r.URL.Query()["scope"] {
				// scope = type:name:actions; the name may itself contain ':' (a port).
				first := strings.Index(scope, ":")
				last := strings.LastIndex(scope, ":")
				if first < 0 || last <= first {
					continue
				}
				granted = append(granted, access{Type: scope[:first], Name: scope[first+1 : last],
					Actions: strings.Split(scope[last+1:], ",")})
			}
		}
		now := time.Now()
		c := claims{
			Claims: jwt.Claims{
				Issuer:    *issuer,
				Subject:   subject,
				Audience:  jwt.Audience{r.URL.Query().Get("service")},
				IssuedAt:  jwt.NewNumericDate(now),
				NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
				Expiry:    jwt.NewNumericDate(now.Add(5 * time.Minute)),
				ID:        fmt.Sprintf("%d", now.UnixNano()),
			},
			Access: granted,
		}
		token, err := jwt.Signed(signer).Claims(c).Serialize()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"token": token, "access_token": token, "expires_in": 300,
			"issued_at": now.UTC().Format(time.RFC3339),
		})
	})
	log.Printf("token server on %s", *listen)
	log.Fatal(http.ListenAndServe(*listen, nil))
}

func readHtpasswd(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	users := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if i := strings.Index(line, ":"); i > 0 {
			users[line[:i]] = line[i+1:]
		}
	}
	return users, s.Err()
}

func newSigningKey() (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "aim-test-token-signer"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}
