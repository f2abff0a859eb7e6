// values-doc writes the values reference of a Helm chart (docs/helm-values.md) from its
// values.yaml: one table row per value with its key, type, default and description.
//
// The description of a key is the comment block directly above it (no blank line between); an
// earlier block separated by a blank line is a section heading and is ignored. A mapping whose
// keys carry comments of their own is documented key by key, after a row of its own without a
// default when it has a description; any other value (a scalar, a list, a mapping without
// commented keys such as `resources`) is one row whose default is the whole value. A value
// without a description is an error: every value is documented.
//
//	values-doc -values deploy/charts/aim-engine/values.yaml -out docs/helm-values.md [-check]
//
// With -check nothing is written; the exit status is 1 when the file is not what would be
// written.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

type row struct {
	key, typ, def, desc string
}

func main() {
	valuesPath := flag.String("values", "", "the chart's values.yaml")
	outPath := flag.String("out", "", "the Markdown file to write")
	check := flag.Bool("check", false, "do not write; exit 1 when -out is stale")
	chartName := flag.String("chart", "aim-engine", "chart name, for the title")
	flag.Parse()
	if *valuesPath == "" || *outPath == "" {
		fmt.Fprintln(os.Stderr, "usage: values-doc -values values.yaml -out doc.md [-check]")
		os.Exit(2)
	}
	src, err := os.ReadFile(*valuesPath)
	if err != nil {
		fail("%v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		fail("%s: %v", *valuesPath, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		fail("%s: the document is not a mapping", *valuesPath)
	}
	var rows []row
	var missing []string
	walk(doc.Content[0], "", &rows, &missing)
	if len(missing) > 0 {
		fail("%s: values without a description (a comment directly above the key): %s",
			*valuesPath, strings.Join(missing, ", "))
	}
	out := render(*chartName, rows)
	if *check {
		have, err := os.ReadFile(*outPath)
		if err != nil || !bytes.Equal(have, out) {
			fmt.Fprintf(os.Stderr, "%s is stale: run tools/helm/helm.sh values-doc\n", *outPath)
			os.Exit(1)
		}
		return
	}
	if err := os.WriteFile(*outPath, out, 0o644); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "values-doc: "+format+"\n", args...)
	os.Exit(1)
}

// walk adds the rows of mapping m, whose keys are below prefix.
func walk(m *yaml.Node, prefix string, rows *[]row, missing *[]string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := k.Value
		if prefix != "" {
			key = prefix + "." + k.Value
		}
		desc := description(k.HeadComment)
		if v.Kind == yaml.MappingNode && hasCommentedKeys(v) {
			if desc != "" { // a heading row, its keys follow
				*rows = append(*rows, row{key: key, typ: "object", desc: desc})
			}
			walk(v, key, rows, missing)
			continue
		}
		if desc == "" {
			*missing = append(*missing, key)
		}
		*rows = append(*rows, row{key: key, typ: typeOf(v), def: defaultOf(v), desc: desc})
	}
}

func hasCommentedKeys(m *yaml.Node) bool {
	for i := 0; i < len(m.Content); i += 2 {
		if description(m.Content[i].HeadComment) != "" {
			return true
		}
	}
	return false
}

// description is the last comment block of a head comment, as one line.
func description(head string) string {
	if head == "" {
		return ""
	}
	blocks := strings.Split(strings.ReplaceAll(head, "\r\n", "\n"), "\n\n")
	block := blocks[len(blocks)-1]
	var words []string
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "#")
		if line = strings.TrimSpace(line); line != "" {
			words = append(words, line)
		}
	}
	return strings.Join(words, " ")
}

func typeOf(v *yaml.Node) string {
	switch v.Kind {
	case yaml.MappingNode:
		return "object"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return typeOf(v.Alias)
	}
	switch v.Tag {
	case "!!str":
		return "string"
	case "!!int":
		return "int"
	case "!!float":
		return "float"
	case "!!bool":
		return "bool"
	case "!!null":
		return "null"
	}
	return strings.TrimPrefix(v.Tag, "!!")
}

// defaultOf is the value as compact JSON, keys in file order.
func defaultOf(v *yaml.Node) string {
	var b strings.Builder
	writeJSON(&b, v)
	return b.String()
}

func writeJSON(b *strings.Builder, v *yaml.Node) {
	switch v.Kind {
	case yaml.AliasNode:
		writeJSON(b, v.Alias)
	case yaml.MappingNode:
		b.WriteString("{")
		for i := 0; i+1 < len(v.Content); i += 2 {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(quote(v.Content[i].Value))
			b.WriteString(":")
			writeJSON(b, v.Content[i+1])
		}
		b.WriteString("}")
	case yaml.SequenceNode:
		b.WriteString("[")
		for i, e := range v.Content {
			if i > 0 {
				b.WriteString(",")
			}
			writeJSON(b, e)
		}
		b.WriteString("]")
	default:
		switch v.Tag {
		case "!!int", "!!float", "!!bool":
			b.WriteString(v.Value)
		case "!!null":
			b.WriteString("null")
		default:
			b.WriteString(quote(v.Value))
		}
	}
}

func quote(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

func render(chart string, rows []row) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Helm chart values: %s\n\n", chart)
	fmt.Fprintf(&b, "<!-- Generated by tools/helm/cmd/values-doc from deploy/charts/%s/values.yaml. Do not edit:\n", chart)
	b.WriteString("     change the comments in values.yaml and run `tools/helm/helm.sh values-doc`. -->\n\n")
	fmt.Fprintf(&b, "Every value of `deploy/charts/%s`, with its default. Set them with `--set key=value`\n", chart)
	b.WriteString("or `-f my-values.yaml`; see `deploy/charts/" + chart + "/README.md` for installing.\n\n")
	b.WriteString("| key | type | default | description |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, r := range rows {
		def := ""
		if r.def != "" {
			def = "`" + cell(r.def) + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", cell(r.key), r.typ, def, cell(r.desc))
	}
	return b.Bytes()
}
