// Package racetest tells tests whether the race detector is on. Tests that check a property over the whole
// catalog in one goroutine gain nothing from the detector and take several times longer under it: they check
// every Stride-th record then, and scripts/test.sh runs them once more over every record without the detector.
package racetest

// Stride is the step through the catalog of a single-goroutine whole-catalog test: 1 without the race
// detector, 5 with it.
const Stride = stride
