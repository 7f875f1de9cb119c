// Import first in every test file that renders ink. Ink decides once, when it is loaded, whether
// it runs in CI (env CI or CONTINUOUS_INTEGRATION set and not "0"/"false"); there it draws only
// the final frame, and a test that reads frames as keys are pressed would see none. These tests
// exercise the interactive terminal, so they run ink as a person's terminal would.
process.env.CI = "false";
process.env.CONTINUOUS_INTEGRATION = "false";
