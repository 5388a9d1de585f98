package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
)

// frames copies Kafka frames from src to dst, logging each.
func frames(tag string, src, dst net.Conn) {
	for {
		var sz [4]byte
		if _, err := io.ReadFull(src, sz[:]); err != nil {
			fmt.Println(tag, "EOF", err)
			dst.Close()
			return
		}
		n := binary.BigEndian.Uint32(sz[:])
		buf := make([]byte, n)
		if _, err := io.ReadFull(src, buf); err != nil {
			fmt.Println(tag, "short", err)
			return
		}
		if tag == ">" {
			fmt.Printf("> key=%d ver=%d corr=%d len=%d % x\n", binary.BigEndian.Uint16(buf), binary.BigEndian.Uint16(buf[2:]), binary.BigEndian.Uint32(buf[4:]), n, buf[:min(len(buf), 120)])
		} else {
			fmt.Printf("< corr=%d len=%d % x\n", binary.BigEndian.Uint32(buf), n, buf[:min(len(buf), 120)])
		}
		dst.Write(sz[:])
		dst.Write(buf)
	}
}

func main() {
	ln, _ := net.Listen("tcp", os.Args[1])
	for {
		c, _ := ln.Accept()
		s, err := net.Dial("tcp", os.Args[2])
		if err != nil {
			panic(err)
		}
		go frames(">", c, s)
		go frames("<", s, c)
	}
}
