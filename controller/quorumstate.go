package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"spool/storage"
)

const quorumStateFile = "quorum-state"

// quorumState is the raft HardState as written to disk.
type quorumState struct {
	Term   uint64 `json:"term"`
	Vote   uint64 `json:"vote"`
	Commit uint64 `json:"commit"`
}

func readQuorumState(dir string) (*raftpb.HardState, error) {
	raw, err := os.ReadFile(filepath.Join(dir, quorumStateFile))
	if errors.Is(err, os.ErrNotExist) {
		return &raftpb.HardState{}, nil
	}
	if err != nil {
		return nil, err
	}
	var qs quorumState
	if err := json.Unmarshal(raw, &qs); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, quorumStateFile), err)
	}
	return &raftpb.HardState{Term: proto.Uint64(qs.Term), Vote: proto.Uint64(qs.Vote), Commit: proto.Uint64(qs.Commit)}, nil
}

func writeQuorumState(dir string, hs *raftpb.HardState) error {
	raw, _ := json.Marshal(quorumState{Term: hs.GetTerm(), Vote: hs.GetVote(), Commit: hs.GetCommit()})
	return storage.WriteFileAtomic(filepath.Join(dir, quorumStateFile), raw)
}
