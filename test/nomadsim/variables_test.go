package nomadsim

import (
	"errors"
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVariablesOfOneNamespaceAreNotAnothers(t *testing.T) {
	_, c := startSim(t, Options{Namespaces: []string{"ml"}})
	vars := c.Variables()
	inML := &api.WriteOptions{Namespace: "ml"}
	_, _, err := vars.CheckedCreate(&api.Variable{Path: "tune/x/lease", Items: api.VariableItems{"holder": "ml"}}, inML)
	require.NoError(t, err)
	_, _, err = vars.CheckedCreate(&api.Variable{Path: "tune/x/lease", Items: api.VariableItems{"holder": "default"}}, nil)
	require.NoError(t, err, "the same path in another namespace is another variable")

	got, _, err := vars.Read("tune/x/lease", &api.QueryOptions{Namespace: "ml"})
	require.NoError(t, err)
	assert.Equal(t, "ml", got.Namespace)
	assert.Equal(t, "ml", got.Items["holder"])

	all, _, err := vars.List(&api.QueryOptions{Namespace: api.AllNamespacesNamespace})
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, []string{"default", "ml"}, []string{all[0].Namespace, all[1].Namespace})

	_, err = vars.Delete("tune/x/lease", inML)
	require.NoError(t, err)
	_, _, err = vars.Read("tune/x/lease", nil)
	require.NoError(t, err, "deleting in ml leaves default's")
}

func TestVariableWritesWithoutPermissionAreForbidden(t *testing.T) {
	_, c := startSim(t, Options{DenyVariableWrites: true})
	_, _, err := c.Variables().CheckedCreate(&api.Variable{Path: "tune/x/lease", Items: api.VariableItems{"holder": "a"}}, nil)
	var ue api.UnexpectedResponseError
	require.True(t, errors.As(err, &ue), "%v", err)
	assert.Equal(t, 403, ue.StatusCode())
	assert.Contains(t, err.Error(), "Permission denied")
	_, err = c.Variables().CheckedDelete("tune/x/lease", 0, nil)
	require.True(t, errors.As(err, &ue), "%v", err)
	assert.Equal(t, 403, ue.StatusCode())
}

func TestAVariableReadBlocksUntilTheVariableChanges(t *testing.T) {
	_, c := startSim(t, Options{})
	vars := c.Variables()
	v, _, err := vars.CheckedCreate(&api.Variable{Path: "tune/x/lease", Items: api.VariableItems{"n": "1"}}, nil)
	require.NoError(t, err)
	read := make(chan *api.Variable, 1)
	go func() {
		got, _, err := vars.Read("tune/x/lease", &api.QueryOptions{WaitIndex: v.ModifyIndex})
		if err != nil {
			read <- nil
			return
		}
		read <- got
	}()
	_, _, err = vars.CheckedUpdate(&api.Variable{Path: "tune/x/lease", ModifyIndex: v.ModifyIndex, Items: api.VariableItems{"n": "2"}}, nil)
	require.NoError(t, err)
	got := <-read
	require.NotNil(t, got)
	assert.Equal(t, "2", got.Items["n"])
}
