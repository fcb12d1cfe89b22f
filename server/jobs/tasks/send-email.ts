import { defineTask } from "../define-task";

// Placeholder until the mail slice lands.
export const sendEmailTask = defineTask("send_email", async () => {
  throw new Error("send_email is not implemented yet");
});
