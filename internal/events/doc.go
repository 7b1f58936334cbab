// Package events owns the event contract of the MCP registry worker: the event
// types, their strict decoding and validation, the JetStream stream, consumer
// and dead-letter provisioning, the consume loop, the single function that maps
// a handler's result to an acknowledgement, the publisher and the Mcp-Notify
// results.
//
// It must never know what a flow does with an event: handlers receive a
// validated Event and return an error; this package acks, naks or
// dead-letters. It imports nothing else from this module.
package events
