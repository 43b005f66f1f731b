// Records as the AWS Go plugins for Fluent Bit write them (cloudwatch, firehose, kinesis):
// each msgpack map on stdin is decoded as fluent-bit-go decodes a record (ugorji's codec, a
// default MsgpackHandle: strings arrive as []byte), made ready by the plugins' DecodeMap, and
// written with jsoniter.ConfigCompatibleWithStandardLibrary, as their processRecord writes it.
// With -log-key KEY, that key's value is written as plugins.EncodeLogKey writes it instead (a
// string as it is, any other value by encoding/json). One line per record on stdout: the bytes
// in base64, or "error: " and the error.
//
// Built and run by tools/record_go_json.py (GOPATH mode, Debian's golang-go,
// golang-github-json-iterator-go-dev and golang-github-ugorji-go-codec-dev: the versions the
// plugins pin, jsoniter 1.1.12).
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	jsoniter "github.com/json-iterator/go"
	"github.com/ugorji/go/codec"
)

// decodeMap and decodeSlice are the plugins' DecodeMap and decodeSlice
// (amazon-kinesis-firehose-for-fluent-bit plugins/plugins.go).
func decodeMap(record map[interface{}]interface{}) map[interface{}]interface{} {
	for k, v := range record {
		switch t := v.(type) {
		case []byte:
			record[k] = string(t)
		case map[interface{}]interface{}:
			record[k] = decodeMap(t)
		case []interface{}:
			record[k] = decodeSlice(t)
		}
	}
	return record
}

func decodeSlice(record []interface{}) []interface{} {
	for i, v := range record {
		switch t := v.(type) {
		case []byte:
			record[i] = string(t)
		case map[interface{}]interface{}:
			record[i] = decodeMap(t)
		case []interface{}:
			record[i] = decodeSlice(t)
		}
	}
	return record
}

// encodeLogKey is the plugins' EncodeLogKey.
func encodeLogKey(log *interface{}) ([]byte, error) {
	switch t := (*log).(type) {
	case []byte:
		return t, nil
	case string:
		return []byte(t), nil
	default:
		return json.Marshal(log)
	}
}

func main() {
	logKey := flag.String("log-key", "", "write only this key's value")
	flag.Parse()
	decoder := codec.NewDecoder(bufio.NewReader(os.Stdin), new(codec.MsgpackHandle))
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	var marshaller = jsoniter.ConfigCompatibleWithStandardLibrary
	for {
		var record map[interface{}]interface{}
		if err := decoder.Decode(&record); err == io.EOF {
			return
		} else if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		record = decodeMap(record)
		var data []byte
		var err error
		if *logKey != "" {
			value, found := record[*logKey]
			if !found {
				fmt.Fprintf(out, "error: no key %s\n", *logKey)
				continue
			}
			data, err = encodeLogKey(&value)
		} else {
			data, err = marshaller.Marshal(record)
		}
		if err != nil {
			fmt.Fprintf(out, "error: %v\n", err)
			continue
		}
		fmt.Fprintln(out, base64.StdEncoding.EncodeToString(data))
	}
}
