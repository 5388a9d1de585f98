package main

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

func send(name, h string) {
	b, _ := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
	c, _ := net.Dial("tcp", "127.0.0.55:29092")
	defer c.Close()
	var sz [4]byte
	binary.BigEndian.PutUint32(sz[:], uint32(len(b)))
	c.Write(append(sz[:], b...))
	start := time.Now()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, sz[:]); err != nil {
		fmt.Println(name, "no answer:", err)
		return
	}
	resp := make([]byte, binary.BigEndian.Uint32(sz[:]))
	io.ReadFull(c, resp)
	fmt.Printf("%s answer after %v % x\n", name, time.Since(start), resp[:20])
}

func main() {
	send("v7", "00 13 00 07 00 00 00 02 ff ff 00 02 04 6b 67 33 00 00 00 03 00 01 01 01 00 00 00 07 d0 00 00")
	send("v5-30s", "00 13 00 05 00 00 00 02 ff ff 00 02 04 6b 67 34 00 00 00 03 00 01 01 01 00 00 00 75 30 00 00")
	send("v4", "00 13 00 04 00 00 00 02 ff ff 00 00 00 01 00 03 6b 67 35 00 00 00 03 00 01 00 00 00 00 00 00 00 00 00 00 07 d0 00")
}
