// The function file registers no commands: the only button shows the task pane, which needs no
// code here. Office still expects onReady to be called on the page.
void Office.onReady();
