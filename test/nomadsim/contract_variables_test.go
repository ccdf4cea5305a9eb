package nomadsim

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Variables part of the contract: check-and-set as the lease of an
// experiment uses it (tune/<experiment>/lease), through the real client.

// variablePath is a path no other run uses, deleted when the test ends.
func (ct *contract) variablePath(t *testing.T, name string) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	path := "contract/" + name + "-" + hex.EncodeToString(b) + "/lease"
	t.Cleanup(func() { ct.c.Variables().Delete(path, nil) })
	return path
}

func casConflict(t *testing.T, err error) api.ErrCASConflict {
	t.Helper()
	var cas api.ErrCASConflict
	require.True(t, errors.As(err, &cas), "want a check-and-set conflict, got %v", err)
	require.NotNil(t, cas.Conflict)
	return cas
}

func TestContractVariableCheckAndSet(t *testing.T) {
	ct := contractTarget(t)
	vars := ct.c.Variables()
	path := ct.variablePath(t, "cas")

	_, _, err := vars.Read(path, nil)
	require.ErrorIs(t, err, api.ErrVariablePathNotFound)
	got, _, err := vars.Peek(path, nil)
	require.NoError(t, err, "peek answers nothing, not an error, for a missing variable")
	assert.Nil(t, got)

	// Updating a variable that is not there is a conflict with a zero one.
	_, _, err = vars.CheckedUpdate(&api.Variable{Path: path, ModifyIndex: 5, Items: api.VariableItems{"holder": "a"}}, nil)
	cas := casConflict(t, err)
	assert.Equal(t, path, cas.Conflict.Path)
	assert.Equal(t, uint64(0), cas.Conflict.ModifyIndex)
	assert.Empty(t, cas.Conflict.Items)

	first, wm, err := vars.CheckedCreate(&api.Variable{Path: path, Items: api.VariableItems{"holder": "a"}}, nil)
	require.NoError(t, err)
	assert.Equal(t, path, first.Path)
	assert.Equal(t, api.DefaultNamespace, first.Namespace)
	assert.NotZero(t, first.ModifyIndex)
	assert.Equal(t, first.CreateIndex, first.ModifyIndex)
	assert.NotZero(t, first.ModifyTime, "the server stamps the write")
	assert.Equal(t, api.VariableItems{"holder": "a"}, first.Items)
	assert.Equal(t, first.ModifyIndex, wm.LastIndex)

	// A second create loses, and learns who holds it.
	_, _, err = vars.CheckedCreate(&api.Variable{Path: path, Items: api.VariableItems{"holder": "b"}}, nil)
	cas = casConflict(t, err)
	assert.Equal(t, first.ModifyIndex, cas.Conflict.ModifyIndex)
	assert.Equal(t, api.VariableItems{"holder": "a"}, cas.Conflict.Items, "a reader sees the conflicting items")

	second, _, err := vars.CheckedUpdate(&api.Variable{Path: path, ModifyIndex: first.ModifyIndex, Items: api.VariableItems{"holder": "a", "renewed": "1"}}, nil)
	require.NoError(t, err)
	assert.Greater(t, second.ModifyIndex, first.ModifyIndex)
	assert.Equal(t, first.CreateIndex, second.CreateIndex)
	assert.GreaterOrEqual(t, second.ModifyTime, first.ModifyTime)

	// A writer that read before the update loses.
	_, _, err = vars.CheckedUpdate(&api.Variable{Path: path, ModifyIndex: first.ModifyIndex, Items: api.VariableItems{"holder": "b"}}, nil)
	cas = casConflict(t, err)
	assert.Equal(t, second.ModifyIndex, cas.Conflict.ModifyIndex)
	assert.Equal(t, api.VariableItems{"holder": "a", "renewed": "1"}, cas.Conflict.Items)

	read, qm, err := vars.Read(path, nil)
	require.NoError(t, err)
	assert.Equal(t, second.ModifyIndex, read.ModifyIndex)
	assert.Equal(t, second.Items, read.Items)
	assert.GreaterOrEqual(t, qm.LastIndex, second.ModifyIndex)

	list, _, err := vars.PrefixList(path[:len(path)-len("/lease")], nil)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, path, list[0].Path)
	assert.Equal(t, second.ModifyIndex, list[0].ModifyIndex)

	// Deleting with a stale index is refused; with the current one it
	// removes the variable.
	_, err = vars.CheckedDelete(path, first.ModifyIndex, nil)
	cas = casConflict(t, err)
	assert.Equal(t, second.ModifyIndex, cas.Conflict.ModifyIndex)
	_, err = vars.CheckedDelete(path, second.ModifyIndex, nil)
	require.NoError(t, err)
	_, _, err = vars.Read(path, nil)
	require.ErrorIs(t, err, api.ErrVariablePathNotFound)
	_, err = vars.CheckedDelete(path, 0, nil)
	require.NoError(t, err, "deleting what is not there with index 0 succeeds")
}

func TestContractVariableWritesAreValidated(t *testing.T) {
	ct := contractTarget(t)
	cases := []struct {
		name string
		v    *api.Variable
		want string
	}{
		{name: "a path with a dot is invalid", v: &api.Variable{Path: "tune/a.b/lease", Items: api.VariableItems{"k": "v"}}, want: `invalid path "tune/a.b/lease"`},
		{name: "a variable needs items", v: &api.Variable{Path: "tune/empty/lease"}, want: "variable missing required Items object"},
		{name: "nomad/ is reserved", v: &api.Variable{Path: "nomad/other", Items: api.VariableItems{"k": "v"}}, want: "only paths at"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ct.c.Variables().Create(tc.v, nil)
			require.Error(t, err)
			var ue api.UnexpectedResponseError
			require.True(t, errors.As(err, &ue), "%v", err)
			assert.Equal(t, 400, ue.StatusCode())
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestContractABlockingReadOfAMissingVariableWaitsForItsCreation(t *testing.T) {
	ct := contractTarget(t)
	vars := ct.c.Variables()
	path := ct.variablePath(t, "block")
	_, qm, err := vars.Peek(path, nil)
	require.NoError(t, err)
	read := make(chan *api.Variable, 1)
	go func() {
		got, _, err := vars.Peek(path, &api.QueryOptions{WaitIndex: qm.LastIndex, WaitTime: time.Minute})
		if err != nil {
			got = nil
		}
		read <- got
	}()
	_, _, err = vars.CheckedCreate(&api.Variable{Path: path, Items: api.VariableItems{"n": "1"}}, nil)
	require.NoError(t, err)
	got := <-read
	require.NotNil(t, got, "the read returns the variable once it is created")
	assert.Equal(t, "1", got.Items["n"])
}
